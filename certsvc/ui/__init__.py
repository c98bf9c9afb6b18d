"""What the web pages share: the form base and record editor, navigation entries, the home page and health
endpoint. Web-specific, so apart from :mod:`certsvc.core`, whose pure helpers know nothing of Flask.
"""
