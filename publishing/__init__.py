"""Publishing a run's checkpoint to the Hugging Face Hub (``run_publish.py``) and downloading it back.

A tool beside the CLIs: it reads runs through ``utils/run_reader.py``, loads policies with
``agents/loading.py`` and evaluates them with ``utils/evaluation.py``; ``hub.py`` is the only module that
talks to the Hub.
"""
