"""A pytest plugin for Pelican's own test suite: Pelican's functions as the speedups plugin
replaces them in a build (`pytest -p tests.pelican_speedups_active --pyargs pelican.tests`)."""

import speedups.plugin as speedups

from stacks_offers import compat

speedups._active = True
speedups.keep_wrapper_urls()
compat.replace_archives_and_translations(
    speedups._archives_by_identity, speedups._translations_by_group
)
compat.replace_listing_pages(speedups._dated)
compat.replace_pure_helpers(speedups._kept_relative_source_path, speedups._plain_strftime)
compat.replace_save_as()  # with nothing kept, an item's save_as is Pelican's
