"""Pricing: effective-dated SKU prices (sale, distribution, cost) with their history, promotions, and the
price a shopper pays."""
