import matplotlib.pyplot as plt
import torch
from sklearn.datasets import make_regression
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

plt.rcParams["font.sans-serif"] = ["SimHei"]   # a Chinese font, as the notes ask for
plt.rcParams["axes.unicode_minus"] = False

features, targets, true_w = make_regression(n_samples=100, n_features=1, noise=10, coef=True,
                                            bias=1.5, random_state=0)
x = torch.tensor(features, dtype=torch.float32)
y = torch.tensor(targets, dtype=torch.float32)
loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
model = nn.Linear(1, 1)
loss_fn = nn.MSELoss()
opt = optim.SGD(model.parameters(), lr=0.01)
history = []
for _epoch in range(100):
    seen, total = 0, 0.0
    for bx, by in loader:
        loss = loss_fn(model(bx), by.reshape(-1, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(bx)
        seen += len(bx)
    history.append(total / seen)

plt.figure(figsize=(12, 4))
plt.subplot(1, 2, 1)
plt.plot(range(100), history)
plt.title("损失变化曲线")
plt.xlabel("训练轮数")
plt.ylabel("MSE损失")
plt.grid()
plt.subplot(1, 2, 2)
plt.scatter(x.numpy(), y.numpy(), label="真实数据", alpha=0.6)
grid = torch.linspace(x.min(), x.max(), 1000).reshape(-1, 1)
plt.plot(grid.numpy(), model(grid).detach().numpy(), label="模型拟合", color="orange", linewidth=2)
plt.plot(grid.numpy(), grid.numpy() * true_w + 1.5, label="真实关系", color="red", linestyle="--")
plt.title("线性回归拟合效果")
plt.xlabel("x")
plt.ylabel("y")
plt.legend()
plt.grid()
plt.tight_layout()
plt.show()
print(f"true weight {true_w:.4f}, learned weight {model.weight.item():.4f}, learned bias {model.bias.item():.4f}")
