"""What is made from results: run folders, summaries, reports, figures."""
