"""What is checked before anything else: input and output guardrails and PII masking, prompt injection, the sensitive-word list, emergency triage."""
