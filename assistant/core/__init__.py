"""The ground floor: settings, the plain data types, prompt templates, token counting, dates and numbers. Imports nothing of citydesk."""
