"""`promptster demo`: a scripted candidate session, recorded, submitted and reviewed."""
