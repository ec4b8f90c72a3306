"""What the patient pages and the staff pages share: security headers and limits, language, errors, display."""
