"""Run trained models over data: metrics, plots, predictions and the HTML report."""
