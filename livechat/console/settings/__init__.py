"""The console's settings pages, for supervisors and admins (views.py says who may call)."""
