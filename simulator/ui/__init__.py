"""What talks to people: the command line and the dashboard."""
