"""One module per `eyespy` subcommand, each with NAME, HELP, add_arguments() and run().

Adding a subcommand = one new module here and its name in `COMMAND_MODULES`.
"""

COMMAND_MODULES = (
    "live",
    "tail",
    "evaluate",
    "config_cmd",
    "service",
    "keys",
    "cull",
    "overlay",
    "sound",
    "cameras",
    "relay",
    "mqtt",
    "doctor",
    "session",
    "shoot",
)
