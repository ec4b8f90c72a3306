"""The patient pages (the self-check and the contact request) and the JSON API."""
