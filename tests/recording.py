"""A callback that records what fit and fit_dataset tell it, shared by their test modules."""


class Events:
    """A dict callback that records every event with a copy of its logs.

    Pass `events.callbacks` to fit; `events.of("on_batch_end")` lists (index, logs) pairs.
    """

    def __init__(self):
        self.seen = []
        self.callbacks = {name: self.recorder(name) for name in (
            "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end")}

    def recorder(self, name):
        def record(*args):
            *index, logs = args
            self.seen.append((name, *index, dict(logs or {})))
        return record

    def of(self, name):
        return [event[1:] for event in self.seen if event[0] == name]
