"""Daily sales facts per SKU and channel: idempotent, set-based upserts and their listing."""
