"""The shelter directory: shelters and services, their declared capacity, ranking for a need."""
