"""Lettings: a tiny web app to release with Slipway."""
