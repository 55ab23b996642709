"""Content -> passages -> vectors -> a published index build."""
