from django.apps import AppConfig


class AssetsConfig(AppConfig):
    """Assets: files and links a workspace publishes for download, with their download counts."""

    name = "tidings.assets"
    label = "assets"
    verbose_name = "Assets"

    def ready(self):
        from tidings.assets import selectors
        from tidings.audit.targets import by_id, register_target
        from tidings.events.descriptions import register_description, register_names
        from tidings.events.registry import code_for
        from tidings.navigation import NavItem, register
        from tidings.privacy.registry import OtherStore, register_store

        register(NavItem("Assets", "assets:list", "assets:view", group="Channels", icon="download", order=30))
        register_target("asset", by_id("assets:detail", "asset_id"))
        register_names("asset_id", selectors.asset_titles)
        register_description(code_for("asset.download"), _describe_download, icon="download")
        register_store(
            OtherStore(
                label="assets.files",
                erase="tidings.assets.personal_data.erase_contacts",
                erase_workspace="tidings.assets.personal_data.erase_workspace_files",
                note="files the workspace published (its content, not contacts' data): erasing a contact "
                "deletes none; deleting the workspace's data deletes every file",
            )
        )


def _describe_download(data, names) -> str:
    return f"Downloaded asset {names['asset_id']}" if "asset_id" in names else f"Downloaded asset #{data['asset_id']}"
