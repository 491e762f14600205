"""Settings for the published site (`make publish`)."""

import os
import sys

sys.path.append(os.curdir)
from pelicanconf import *

# Set SITEURL in the environment (or here) to the address the site is served at.
SITEURL = os.environ.get("SITEURL", "https://stacks-and-offers.example.org")
RELATIVE_URLS = False
FEED_DOMAIN = SITEURL

# Drafts are never written into the published site.
DRAFT_SAVE_AS = ""
DRAFT_URL = ""
DRAFT_LANG_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
DRAFT_PAGE_LANG_SAVE_AS = ""

DELETE_OUTPUT_DIRECTORY = True
