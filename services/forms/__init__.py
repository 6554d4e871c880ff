"""E-forms: form definitions, submissions and validators of Polish identifiers."""
