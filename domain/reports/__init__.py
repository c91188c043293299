"""Read-model reports over prices, stock, sales facts and receipts: one set-based query each."""
