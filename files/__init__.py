"""Media files of episodes: uploads to S3 or local storage (filled by the files issue)."""
