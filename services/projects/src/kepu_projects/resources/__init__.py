"""The resource library 科普资源库 (issue 15): resources, files, review, sharing, counts."""
