"""protector-engine: runs DR operations (durable, resumable)."""
