"""Reports: what partners send when they see signs of trafficking."""
