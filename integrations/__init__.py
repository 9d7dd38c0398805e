"""Partner-specific adapters. Each lives in its own sub-package and implements one of the
interfaces in `vigie.integrations`; the core finds them by name, never by import."""
