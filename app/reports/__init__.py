"""Reports for the support and content teams: periods, deflection, gap topics, their formats and cache."""
