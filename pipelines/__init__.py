"""The model side of the playground: settings, the task registry, loading, and one module per task.

Nothing here imports gradio, and nothing heavy (torch, transformers) is imported at module level, so
`import pipelines.<anything>` is cheap and the UI side can use these modules without pulling in torch.
"""
