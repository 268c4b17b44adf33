"""The scripts a moons run exports: the one-process script and its part of the data-parallel one
(engine.exports fills them in)."""

from engine.tasks.base import ScriptParts

SCRIPT = '''"""Classifying scikit-learn's two moons with PyTorch, exported from torchtui: this reproduces one
run exactly.

Data: make_moons; model: an MLP (2 -> {hidden} -> 2, ReLU); loss: CrossEntropyLoss (softmax inside);
optimizer: {optimizer}.{stopped}

Run it with: python {filename}
"""
import torch
from sklearn.datasets import make_moons
from torch import nn, optim

SAMPLES, NOISE, DATA_SEED, HIDDEN = {samples}, {noise!r}, {data_seed}, {hidden}
BATCH_SIZE, SHUFFLE, EPOCHS, LR, SEED = {batch_size}, {shuffle}, {epochs}, {lr!r}, {seed}
DEVICE = {device!r}

# 1. Data: two interleaved half circles, labels 0 and 1; random_state makes them the same every time.
x, y = make_moons(n_samples=SAMPLES, noise=NOISE, random_state=DATA_SEED)
x = torch.tensor(x, dtype=torch.float32)
y = torch.tensor(y, dtype=torch.long)

# 2. Model, loss and optimizer. The model gives two scores (logits) per point, one per class.
torch.manual_seed(SEED)
model = nn.Sequential(nn.Linear(2, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 2)).to(DEVICE)
criterion = nn.CrossEntropyLoss()
optimizer = {optimizer_line}
generator = torch.Generator().manual_seed(SEED)
{loader_setup}
# 3. Training: the epoch's loss is weighted by batch size; accuracy counts the right guesses.
for epoch in range(1, EPOCHS + 1):
    total = torch.zeros((), device=DEVICE)
    correct = torch.zeros((), device=DEVICE, dtype=torch.long)
    seen = 0
{loader_loop}        scores = model(batch_x)
        loss = criterion(scores, batch_y)
        correct += (scores.detach().argmax(dim=1) == batch_y).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total.add_(loss.detach(), alpha=batch_x.shape[0])
        seen += batch_x.shape[0]
    avg_loss = total.item() / seen
    if epoch % max(1, EPOCHS // 10) == 0 or epoch == EPOCHS:
        print(f"Epoch [{{epoch}}/{{EPOCHS}}], Loss: {{avg_loss:.4f}}, accuracy: {{correct.item() / seen:.3f}}")

# 4. The final model on all the data: the class with the higher score is the guess.
with torch.no_grad():
    accuracy = (model(x.to(DEVICE)).argmax(dim=1).cpu() == y.cpu()).float().mean().item()
print(f"final loss: {{avg_loss:.6f}}")
print(f"accuracy: {{accuracy:.4f}}")
'''

DDP = {
    "what": "classification of the two moons", "maker": "make_moons",
    "data_lines": "x, y = make_moons(n_samples=SAMPLES, noise=NOISE, random_state=DATA_SEED)\n"
                  "dataset = TensorDataset(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long))",
    "model_line": "nn.Sequential(nn.Linear(2, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 2))",
    "criterion_line": "nn.CrossEntropyLoss()",
    "report_lines": "    with torch.no_grad():\n"
                    "        all_x, all_y = dataset.tensors\n"
                    "        accuracy = (model(all_x.to(device)).argmax(dim=1).cpu() == all_y).float().mean().item()\n"
                    '    print(f"accuracy: {accuracy:.4f}")',
}

PARTS = ScriptParts(SCRIPT, DDP)
