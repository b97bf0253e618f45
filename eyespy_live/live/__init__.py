"""Running it: the live run loop (`run`), the source supervisor (`supervisor`), the headless
service that `eyespy service` starts (`service`) and its systemd notifications (`sdnotify`).
"""
