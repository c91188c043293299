"""Purchasing (采购): suppliers and their terms per product."""
