"""What each query and mutation does: validation, rules, transactions."""
