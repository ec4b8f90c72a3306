"""The records: what is stored, the database, the contact-request workflow, and the CSV and FHIR builders.

Uses the rules; knows nothing of pages or requests.
"""
