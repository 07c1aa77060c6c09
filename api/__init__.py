"""Heroes API: the FastAPI SQL-databases tutorial's Hero service, contract-first."""
