"""i科普 科技志愿服务 in the talent service: volunteers, teams, service records, hours, certificates."""
