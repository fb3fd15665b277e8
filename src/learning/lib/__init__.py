"""Cross-cutting helpers: errors, logging, rate limits, OpenAPI documentation, clock."""
