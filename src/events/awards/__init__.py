"""Awards: categories, awards and their prize tables, import/export, summary, allocation."""
