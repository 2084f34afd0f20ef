"""Work plans 工作要点 / 实施方案 (issue 14), shaped like the service: domain, repository, service, grpc_api."""
