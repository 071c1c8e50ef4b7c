"""pipelines/tasks"""
