"""The doors to the assistant: the FastAPI app, the OpenAI-compatible API, the Gradio chat and staff pages, the staff work-order API, rate limits."""
