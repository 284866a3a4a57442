"""What the policies that run by themselves read: business hours and holidays, the service
settings, the SLA policy — loaded once per process and reloaded everywhere on an edit."""
