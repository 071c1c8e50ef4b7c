"""pipelines/families"""
