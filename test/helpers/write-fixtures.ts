/**
 * Regenerates the committed binary fixtures: `npx tsx test/helpers/write-fixtures.ts`.
 * The page texts are exported so tests can compare what the loader extracts with what was drawn.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { makePdf } from "./make-pdf.ts";

export const SAMPLE_ZH_TITLE = "机器学习导论讲义 (Sample)";
export const SAMPLE_ZH_HEADER = "机器学习导论 · 课程讲义";

/** Four pages: a running header on top, a page-number footer at the bottom, numbered headings, Chinese and English. */
export const SAMPLE_ZH_PAGES: readonly (readonly string[])[] = [
  [
    SAMPLE_ZH_HEADER,
    "第 1 章 概述",
    "本章介绍机器学习的基本概念与发展历程。机器学习是人工智能的",
    "一个分支，研究计算机怎样从数据中自动学习规律。",
    "1.1 背景",
    "机器学习的思想可以追溯到二十世纪五十年代。1959 年，",
    "Arthur Samuel coined the term machine learning while working at IBM.",
    "- 1 -",
  ],
  [
    SAMPLE_ZH_HEADER,
    "深度学习兴起之后，大规模预训练语言模型成为研究热点，例如 GPT-4 和",
    "LLaMA-2 70B 等模型在许多任务上取得了显著进展。",
    "1.2 基本术语",
    "一组记录的集合称为数据集，其中每条记录称为一个样本或示例。",
    "The collection of examples used to fit a model is called the training set.",
    "- 2 -",
  ],
  [
    SAMPLE_ZH_HEADER,
    "第 2 章 线性模型",
    "2.1 线性回归",
    "线性回归试图学得一个线性模型以尽可能准确地预测实值输出",
    "标记。最小二乘法通过最小化均方误差来求解模型参数。",
    "鸢尾花数据集包含 150 个样本，分为 3 个类别，每个样本有 4 个特征。",
    "- 3 -",
  ],
  [
    SAMPLE_ZH_HEADER,
    "2.2 对数几率回归",
    "对数几率回归虽然名字里有回归，实际上是一种分类学习方法。",
    "Logistic regression maps a linear score to a probability with the sigmoid function.",
    "- 4 -",
  ],
];

export function sampleZhPdf(): Buffer {
  return makePdf(SAMPLE_ZH_PAGES, { title: SAMPLE_ZH_TITLE });
}

export const SAMPLE_ZH_PDF_PATH = fileURLToPath(new URL("../fixtures/sample-zh.pdf", import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SAMPLE_ZH_PDF_PATH, sampleZhPdf());
  console.log(`wrote ${SAMPLE_ZH_PDF_PATH}`);
}
