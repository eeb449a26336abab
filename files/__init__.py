"""Media files of episodes: uploads to S3 or local storage, verified, then probed."""
