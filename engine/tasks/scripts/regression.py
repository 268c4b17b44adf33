"""The scripts a regression run exports: the one-process script and its part of the data-parallel one
(engine.exports fills them in)."""

from engine.tasks.base import ScriptParts

SCRIPT = '''"""Linear regression with PyTorch, exported from torchtui: this reproduces one run exactly.

Data: scikit-learn's make_regression; model: nn.Linear; loss: MSELoss; optimizer: {optimizer}.{stopped}

Run it with: python {filename}
"""
import torch
from sklearn.datasets import make_regression
from torch import nn, optim

SAMPLES, FEATURES, NOISE, BIAS, DATA_SEED = {samples}, {features}, {noise!r}, {bias!r}, {data_seed}
BATCH_SIZE, SHUFFLE, EPOCHS, LR, SEED = {batch_size}, {shuffle}, {epochs}, {lr!r}, {seed}
DEVICE = {device!r}

# 1. Data: the same numbers every time, thanks to random_state.
x, y, coef = make_regression(n_samples=SAMPLES, n_features=FEATURES, noise=NOISE, coef=True,
                             bias=BIAS, random_state=DATA_SEED)
x = torch.tensor(x, dtype=torch.float32)
y = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)

# 2. Model, loss and optimizer. The seed fixes the model's starting weights and the shuffling.
torch.manual_seed(SEED)
model = nn.Linear(FEATURES, 1).to(DEVICE)
criterion = nn.MSELoss()
optimizer = {optimizer_line}
generator = torch.Generator().manual_seed(SEED)
{loader_setup}
# 3. Training: forward, loss, zero_grad, backward, step; the epoch's loss is weighted by batch size.
for epoch in range(1, EPOCHS + 1):
    total = torch.zeros((), device=DEVICE)
    seen = 0
{loader_loop}        loss = criterion(model(batch_x), batch_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total.add_(loss.detach(), alpha=batch_x.shape[0])
        seen += batch_x.shape[0]
    avg_loss = total.item() / seen
    if epoch % max(1, EPOCHS // 10) == 0 or epoch == EPOCHS:
        print(f"Epoch [{{epoch}}/{{EPOCHS}}], Loss: {{avg_loss:.4f}}")

print("learned weight:", model.weight.detach().cpu().reshape(-1).tolist(), "true:", list(map(float, [coef] if FEATURES == 1 else coef)))
print("learned bias:", model.bias.item(), "true:", BIAS)
print(f"final loss: {{avg_loss:.6f}}")
'''

DDP = {
    "what": "linear regression", "maker": "make_regression",
    "data_lines": "x, y, coef = make_regression(n_samples=SAMPLES, n_features=FEATURES, noise=NOISE, coef=True,\n"
                  "                             bias=BIAS, random_state=DATA_SEED)\n"
                  "dataset = TensorDataset(torch.tensor(x, dtype=torch.float32),\n"
                  "                        torch.tensor(y, dtype=torch.float32).reshape(-1, 1))",
    "model_line": "nn.Linear(FEATURES, 1)", "criterion_line": "nn.MSELoss()",
    "report_lines": '    print("learned weight:", model.weight.detach().cpu().reshape(-1).tolist(), "bias:", '
                    'model.bias.item())',
}

PARTS = ScriptParts(SCRIPT, DDP)
