"""The demo's fixed names: its organization, people, app and where its shop is served."""

DEMO_DOMAIN = "demo.test"
DEMO_PASSWORD = "datalab-demo"
DEMO_OWNER = ("ada@demo.test", "Ada", "Lovelace")
DEMO_COLLEAGUE = ("grace@demo.test", "Grace", "Hopper")
DEMO_APP = "Demo shop"
DEMO_PATH = "/demo/"
