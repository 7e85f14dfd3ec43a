"""Pages for people: server-rendered, phone-first, in Chinese and English."""
