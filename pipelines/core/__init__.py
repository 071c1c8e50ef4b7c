"""pipelines/core"""
