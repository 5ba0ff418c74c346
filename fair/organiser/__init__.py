"""The organisers' area (/organiser/): fair editions, the category tree, halls,
announcements, the audit log and the live dashboard. Apps higher up add their own organiser
pages (approvals, moderation, exports) under /organiser/ with the same access rule."""
