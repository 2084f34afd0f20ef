"""The 科普中国 e站 network (issue 14), shaped like the service: domain, repository, service, grpc_api."""
