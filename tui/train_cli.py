def add_train_parser(sub): pass
