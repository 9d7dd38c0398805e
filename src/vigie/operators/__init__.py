"""MIPROF staff accounts: operators, supervisors, editors, admins."""
