"""Answer-quality suites: loading, running, metrics, the LLM judge and reports (`citydesk eval`)."""
